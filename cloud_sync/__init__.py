"""cloud_sync"""
